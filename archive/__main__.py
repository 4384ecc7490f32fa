"""`python -m archive`: the same command as the installed `archive` script."""

from archive.launch import main

if __name__ == "__main__":
    main(prog_name="archive")
