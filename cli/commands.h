/* One entry point per command file (cli/cmd_<name>.c). */
#ifndef PROMSCOPE_CLI_COMMANDS_H
#define PROMSCOPE_CLI_COMMANDS_H
int cmd_help(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_scrape(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_series(int argc, char **argv);
int cmd_labels(int argc, char **argv);
int cmd_label_values(int argc, char **argv);
int cmd_metadata(int argc, char **argv);
int cmd_targets(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_cardinality(int argc, char **argv);
int cmd_diff(int argc, char **argv);
/* `cardinality --server URL` (cli/cardinality_server.c): argv as cmd_cardinality's. */
int cli_cardinality_server(int argc, char **argv);
#endif
