// Vite builds the browser app (index.html) and PiggyBank's board (board.html) into dist/ (hashed
// files under dist/assets/): nginx serves the app at "/" on the bank's port and the board on the
// Grafana port. Vitest runs the unit tests in jsdom. `npm run dev` proxies the API to a running stack.
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

const stack = process.env.PIGGY_DEV_STACK || 'https://localhost:8080'

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 700,
    // Quiet on a busy machine: the bundler's "plugins took N% of the build" note is not a problem.
    rolldownOptions: {
      input: { app: 'index.html', board: 'board.html' },
      checks: { pluginTimings: false },
    },
  },
  server: {
    proxy: {
      '/api': { target: stack, secure: false, ws: true, changeOrigin: true },
      '/auth': { target: stack, secure: false, changeOrigin: true },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/setupTests.ts'],
    css: false,
    restoreMocks: true,
  },
})
