"""What subscribers read: Atom + RSS feeds and a static HTML site of readable diffs."""
