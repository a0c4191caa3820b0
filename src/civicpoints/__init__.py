"""CivicPoints — public-service points platform (公共服务积分平台)."""

__version__ = "0.1.0"
