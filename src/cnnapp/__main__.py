"""`python -m cnnapp`."""

from cnnapp.cli.main import main

if __name__ == "__main__":  # not when a spawned process imports it again
    main()
