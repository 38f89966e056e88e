"""Account profitability (客户损益) and concession governance (优惠政策的"度").

Owns the activity-based cost rates (with their history), the per-account P&L with its cost
to serve by driver and the whale curve (read set-based from orders, tickets, visits and
concessions), the concession policies per tier and account type, concession requests with
their profit simulation and approval chain, and the margin alerts."""
