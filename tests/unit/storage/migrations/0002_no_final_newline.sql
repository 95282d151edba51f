CREATE TABLE fx_two (id int PRIMARY KEY REFERENCES fx_one (id));
CREATE INDEX fx_two_idx ON fx_two (id);
-- no newline at the end