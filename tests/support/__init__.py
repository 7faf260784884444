"""What the tests share: the scripted provider, PostgreSQL, running apps and browser pages.

Test files import from `support.<module>`, never from conftest (which holds only fixtures and
hooks) nor from one another. conftest puts tests/ on sys.path, so `support` imports from anywhere."""
