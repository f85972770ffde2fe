"""Administration views (系统管理): one page per entry of ``views.registry``."""
