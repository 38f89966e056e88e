"""Key-person engagement (与关键人物互动): activities with the people at each account and their
next steps, the calendar and its iCalendar feed, the style matrix guidance, buying-centre
coverage and coach paths, the executive sponsor programme, site and reference visits,
business events, gifts and the VIP club, needs and pains, playbooks with their cadences, and
the reminders that come from all of these."""
