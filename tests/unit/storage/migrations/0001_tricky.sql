-- Test fixture (not a real migration): bytes that a C string literal would
-- mangle: quotes ' " , backslashes \ \\ \n \0 , trigraphs ??/ ??= ??' ,
-- a tab	here, UTF-8 二手商品 ✓ é, and "*/" and "/*" sequences.
CREATE TABLE fx_one (id int PRIMARY KEY, note text NOT NULL);
INSERT INTO fx_one VALUES
  (1, 'it''s "quoted" \ back\\slash 二手 ??/'),
  (2, E'tab\there\nnewline');
DO $body$
BEGIN
  IF (SELECT count(*) FROM fx_one) <> 2 THEN
    RAISE EXCEPTION 'fixture rows missing';
  END IF;
END
$body$;
