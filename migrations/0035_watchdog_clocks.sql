-- The self-heal watchdog's clocks of exchange work (since when each piece of it has been owed, when each
-- alert of it was last raised), kept by the engine lease's holder so that its next life — a restarted
-- worker, or another host taking the lease — continues them rather than starting each life at zero.
CREATE TABLE "watchdog_clocks" (
	"clock" text PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"begun_by" text NOT NULL,
	"written_by" text NOT NULL,
	"confirmed_at" timestamp with time zone NOT NULL
);
