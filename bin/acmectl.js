#!/usr/bin/env node
// Loads the built entry point and nothing else; `npm install` runs the build (prepare script).
import '../dist/cli/main.js';
