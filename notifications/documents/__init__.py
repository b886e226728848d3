"""Documents rendered from Jinja2 templates: notices, reports (Markdown, HTML,
Word, Excel) and their graphs. Nothing here sends anything."""
