-- Which process wrote each kill saved in DATA_DIR: the one whose insert made the row announces it
-- (its alert and incident thread), so two processes replaying one saved kill announce it once.
CREATE TABLE "kill_replays" (
	"kill_id" text PRIMARY KEY NOT NULL,
	"replayed_at" timestamp with time zone NOT NULL,
	"replayed_by" text NOT NULL
);
