-- 0011: one form for "the VC-JWT is not signed yet" on both backends (SQLite).
--
-- Nothing to change here: SQLite already stores '' (its column stayed NOT NULL in 0009).
-- PostgreSQL's 0011 moves it to the same form. The numbers of both folders stay in step.
SELECT 1;
