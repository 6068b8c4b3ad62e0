// What the bot's start is doing while it is not over, as /healthz shows it (src/app/start-progress.ts keeps it).
export type StartStanding =
  | {
      state: 'starting';
      since: string;
      /** The migrations wait for the migration lock another process (or an earlier session) holds: who holds it, in words. */
      migrationLock?: string;
    }
  | {
      state: 'waiting for the database';
      since: string;
      /** The part whose start the database left: 'the part "mode"', 'the start banner'. */
      part: string;
      /** What happened, where: "connection refused (ECONNREFUSED) at 127.0.0.1:5432". */
      database: string;
      waitingSince: string;
      /** Seconds until the next try. */
      retryInS: number;
    };
