"""The template layer: where a template comes from and how it is read and rendered.

`source` makes a template local (the embedded copy, a folder, a git clone at a tag) as
one `Template` that reads copier.yml, the guide, the changelog and the migrations once;
`answers` asks and validates its questions; `render` runs Copier's API; `guide` is the
template's own explanation of its files, presets and question groups; `versions` lists
the versions a template offers and the one a repository records; `migrations` runs the
template's `_migrations`. Below the verbs, above the project layer (git mechanics).
"""
