"""Pictures without dependencies: SVG charts and self-contained HTML pages (no CDK, no network).

Game-day reports (sandbox), dashboard previews (`byoip dashboard preview`) and failing alarm
tests (`byoip alarms test --plot`) are drawn with these, so every layer above may use them.
"""
