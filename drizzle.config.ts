import { defineConfig } from 'drizzle-kit';

// Migrations are generated from src/db/schema/*.ts and applied by src/db/migrate.ts
// to both PostgreSQL (postgres.js) and embedded PGlite.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './migrations',
});
