"""KeyCare: key-account after-sales service management (大客户售后服务管理系统).

Domain apps (core, users, accounts, …) hold models, services and selectors;
`api` and `web` are the two interfaces on top and nothing below imports them.
"""
