"""The Vietnamese edition of the lessons and exercises, from one English source (maintainers).

The English notebooks in notebooks/ and exercises/ are the only source. Their prose lives in
standard gettext catalogs, one per notebook, under translations/vi/ (msgctxt: the cell id;
msgid: the English markdown cell exactly; msgstr: its Vietnamese), and a build writes the
Vietnamese notebooks from them::

    python -m course_admin.translations update          # catalogs follow the English notebooks
    python -m course_admin.translations build           # write notebooks/vi/, exercises/vi/
    python -m course_admin.translations build --check   # compare only, write nothing
    python -m course_admin.translations check           # complete, current, placeholders kept

Layers: ``sources`` (which notebooks, which catalogs), ``catalogs`` (read, write and update a
catalog, the way msgmerge does), ``placeholders`` (what must survive translation unchanged),
``build`` (the Vietnamese notebooks) and ``__main__`` (the command line).
"""
