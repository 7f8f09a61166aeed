DROP TABLE content_schedule;
