"""Output formats, each a pure function of a result value (a Report, a decision, ...).

One module per format (`text`, `json`, `sarif`, `junit`, `markdown`, `github`, `csv`, `dot`,
`html`), with one `format_<kind>` function per result kind it writes (`prove`, `diff`,
`explain`, `lint`, `matrix`, `validate`); `formats` maps the format a user asks for to its
module. Shared pieces: `describe` (wording), `locations` (where a result points), `rules`
(the rule catalogue of the CI formats) and `tables` (a matrix per port).
"""
