"""Reading paper abstracts into the index: parse, de-duplicate, link, chunk, embed, store."""
