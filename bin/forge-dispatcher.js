#!/usr/bin/env node
import '../dist/cli/forge-dispatcher.js';
