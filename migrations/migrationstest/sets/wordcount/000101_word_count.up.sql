-- Expand: a new column with a default, and an index on it.
ALTER TABLE content ADD COLUMN word_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX content_word_count ON content (word_count);
