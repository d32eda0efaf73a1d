"""Everything that imports rich: tables and live views."""
