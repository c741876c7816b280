import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './shared/db/src/schema/*.ts',
  out: './shared/db/migrations',
});
