"""The Litestar HTTP API: thin handlers from msgspec Structs to use cases and back."""
