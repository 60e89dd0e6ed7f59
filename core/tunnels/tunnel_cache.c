/* The last good record of each connected tunnel, so traffic through a connected
 * tunnel keeps flowing while the storage is down. */
#include "tunnel_cache.h"

#include <cjson/cJSON.h>

#include "strmap.h"

static struct strmap *records; /* tunnel id -> cJSON copy */

static void free_record(void *value)
{
	cJSON_Delete(value);
}

void tunnel_cache_put(const char *tunnel_id, const cJSON *record)
{
	if (records == NULL && (records = strmap_new()) == NULL)
		return;
	cJSON *copy = cJSON_Duplicate(record, true);
	if (copy == NULL)
		return;
	cJSON *old = strmap_get(records, tunnel_id);
	if (strmap_put(records, tunnel_id, copy) != EXPOSR_OK) {
		/* Out of memory: an old copy would be stale now, so none is kept. */
		cJSON_Delete(copy);
		cJSON_Delete(strmap_remove(records, tunnel_id));
		return;
	}
	cJSON_Delete(old);
}

const cJSON *tunnel_cache_get(const char *tunnel_id)
{
	return records != NULL ? strmap_get(records, tunnel_id) : NULL;
}

void tunnel_cache_drop(const char *tunnel_id)
{
	if (records != NULL)
		cJSON_Delete(strmap_remove(records, tunnel_id));
}

void tunnel_cache_free(void)
{
	strmap_free(records, free_record);
	records = NULL;
}
