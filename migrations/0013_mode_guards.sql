-- The sign-off record guards itself: a request moves only forward through its lifecycle
-- (requested -> approved -> switched, or to a terminal rejected/expired/failed/withdrawn), a closed
-- request never changes again, and nothing is ever deleted from the record.
CREATE OR REPLACE FUNCTION mode_change_requests_guard() RETURNS trigger AS $$
BEGIN
  IF NEW.status = OLD.status THEN
    IF OLD.status NOT IN ('requested', 'approved') THEN
      RAISE EXCEPTION 'mode change request % is % and can no longer change', OLD.id, OLD.status USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  IF (OLD.status = 'requested' AND NEW.status IN ('approved', 'rejected', 'expired', 'failed', 'withdrawn'))
     OR (OLD.status = 'approved' AND NEW.status IN ('switched', 'rejected', 'failed', 'withdrawn')) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'mode change request %: % -> % is not a permitted transition', OLD.id, OLD.status, NEW.status USING ERRCODE = 'check_violation';
END
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER mode_change_requests_guard BEFORE UPDATE ON mode_change_requests FOR EACH ROW EXECUTE FUNCTION mode_change_requests_guard();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION mode_sign_off_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is part of the sign-off record: rows are never %d', TG_TABLE_NAME, lower(TG_OP) USING ERRCODE = 'check_violation';
END
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER mode_change_requests_no_delete BEFORE DELETE ON mode_change_requests FOR EACH ROW EXECUTE FUNCTION mode_sign_off_append_only();
--> statement-breakpoint
CREATE TRIGGER mode_change_votes_no_delete BEFORE DELETE ON mode_change_votes FOR EACH ROW EXECUTE FUNCTION mode_sign_off_append_only();
--> statement-breakpoint
CREATE TRIGGER mode_change_events_append_only BEFORE UPDATE OR DELETE ON mode_change_events FOR EACH ROW EXECUTE FUNCTION mode_sign_off_append_only();
