CREATE TABLE "backups" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"path" text NOT NULL,
	"reason" text NOT NULL,
	"actor" text NOT NULL,
	"manifest_sha256" text NOT NULL,
	"files" integer NOT NULL,
	"bytes" bigint NOT NULL,
	"pruned_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "backups_path" ON "backups" USING btree ("path");--> statement-breakpoint
CREATE INDEX "backups_at" ON "backups" USING btree ("at");