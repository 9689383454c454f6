"""The book tools' command line; the tools themselves are the package ``tools/booktools/``.

    python tools/booktools.py notebooks          # the notebooks listed in _toc.yml
    python tools/booktools.py execute [NB ...]    # re-run notebooks in place, strip volatile metadata
    python tools/booktools.py build               # write the site configuration, build the site if it changed
    python tools/booktools.py site-config --output F [--repository URL] [--branch B]

Run as a script, this file's folder comes first on the import path, where the
package ``booktools`` (a folder) takes precedence over this module's own name.
"""

import sys

from booktools.cli import main

if __name__ == "__main__":
    sys.exit(main())
