-- Burns CPU for a while (a few hundred milliseconds) so a test can kill
-- the process mid-run.
CREATE TABLE slow_marker AS
  WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 400000)
  SELECT count(*) AS n FROM c;
