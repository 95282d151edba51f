-- The sequencer sets events.log_index on every row once; that UPDATE cannot
-- be a HOT update (log_index is indexed), so each row gets a new entry in
-- every index of events. The log benchmark (tests/bench/README.md) found
-- index maintenance to be most of the sequencer's cost. events_by_org served
-- no query (WatchEvents reads by log_index and filters the acting
-- organization within the window): dropped.
DROP INDEX events_by_org;
