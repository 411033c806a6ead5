"""Scheduling adapters: cron expressions read by APScheduler."""
