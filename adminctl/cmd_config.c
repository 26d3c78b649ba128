/* adminctl config [KEY...] - the tern.conf table, or current values. */
#include <stdio.h>
#include <string.h>

#include "adminctl.h"
#include "conf.h"

static const char *const type_names[] = {
	[CONF_STR] = "string", [CONF_PATH] = "path", [CONF_INT] = "int",
	[CONF_SIZE] = "size", [CONF_TIME] = "time", [CONF_BOOL] = "bool",
	[CONF_LIST] = "list", [CONF_ENUM] = "enum",
};

static void
config_json(void)
{
	printf("[");
	for (size_t i = 0; i < conf_table_len; i++) {
		const struct conf_key *k = &conf_table[i];

		printf("%s{\"key\":", i ? "," : "");
		json_str(k->name);
		printf(",\"type\":\"%s\",\"default\":", type_names[k->type]);
		json_str(k->def);
		printf(",\"value\":");
		json_str(conf_text(k->name));
		printf(",\"doc\":");
		json_str(k->doc);
		printf("}");
	}
	printf("]\n");
}

int
cmd_config(int argc, char **argv)
{
	int rc = EX_OK;

	if (argc == 1) {
		if (A.json) {
			config_json();
			return EX_OK;
		}
		for (size_t i = 0; i < conf_table_len; i++) {
			const struct conf_key *k = &conf_table[i];

			printf("%-28s %-6s default %-14s = %s\n    %s\n", k->name,
			    type_names[k->type], *k->def ? k->def : "(empty)",
			    conf_text(k->name), k->doc);
		}
		return EX_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (conf_key_find(argv[i]) == NULL) {
			fprintf(stderr, "adminctl: unknown key '%s'\n", argv[i]);
			rc = EX_FAIL;
			continue;
		}
		printf("%s = %s\n", argv[i], conf_text(argv[i]));
	}
	return rc;
}
