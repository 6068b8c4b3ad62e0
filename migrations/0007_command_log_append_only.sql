-- command_log is the operators' audit trail: rows are written once and never changed or removed.
-- Enforced in the database, so no code path (nor a stray psql session) can rewrite history.
CREATE OR REPLACE FUNCTION command_log_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'command_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER command_log_no_update_or_delete
  BEFORE UPDATE OR DELETE ON command_log
  FOR EACH ROW EXECUTE FUNCTION command_log_append_only();
--> statement-breakpoint
CREATE TRIGGER command_log_no_truncate
  BEFORE TRUNCATE ON command_log
  FOR EACH STATEMENT EXECUTE FUNCTION command_log_append_only();
