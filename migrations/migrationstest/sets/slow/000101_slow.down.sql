DROP TABLE slow_marker;
