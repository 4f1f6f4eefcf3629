DROP FUNCTION httvps_set_updated_at();
