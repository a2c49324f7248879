#!/usr/bin/env node
import '../dist/cli/forge-worker.js';
