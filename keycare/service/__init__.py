"""After-sales service (售后服务): business calendars, SLA policies and the SLA engine, and
tickets (服务工单) with their workflow and timeline."""
