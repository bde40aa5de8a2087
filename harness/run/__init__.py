"""Run directories: images, captions and scores appended durably, and the layered results.json."""
