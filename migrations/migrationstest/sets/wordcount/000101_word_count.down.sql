DROP INDEX content_word_count;
ALTER TABLE content DROP COLUMN word_count;
