DROP INDEX content_unique_title;
