"""`python -m cnnapp`."""

from cnnapp.cli.main import main

main()
