"""What the migrations need from the application, frozen as it was at a revision: the search index's
DDL, tokens and keys, the BI views' SQL and the views' comments.

A migration imports from here, never from `archive.*`: it must do tomorrow what it did the day it was
written, whatever the application's modules have become. Each module says the revision it was
frozen at; a later change comes with a new migration (and, if it needs one, a new frozen copy).
"""
