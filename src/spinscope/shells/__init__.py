"""The shells over the library: the command line (:mod:`~.cli`), the REST API and web page
(:mod:`~.api`, ``web/``) and the human views of an Analysis (:mod:`~.render`)."""
