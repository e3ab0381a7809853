/*
 * template: rendering the text of every email mentord sends from files in the
 * templates directory.
 *
 * A template file NAME.txt starts with header lines ("Subject: ..."), a blank
 * line, then the body.  Subject is the only header allowed (required, once);
 * any other header line is an error, so a misspelt "Subjet:" is caught.  A
 * section tag alone on its line takes the whole line with it, as in
 * Mustache.  "{{name}}" is replaced by the variable's value;
 * "{{#name}}...{{/name}}" keeps its content only when the variable is set and
 * not empty; "{{^name}}...{{/name}}" only when it is unset or empty.  A
 * "{{name}}" whose variable is not set is an error, so a typo cannot send
 * "{{nmae}}" to a participant; sections may test unset variables.
 *
 * Confidentiality by construction: a variable set as confidential (meeting
 * notes, evaluation comments, self-assessment answers) cannot be rendered
 * for the supervisor audience; such a template fails to render, and
 * template_check() reports it at start-up.
 */
#ifndef MENTORD_TEMPLATE_H
#define MENTORD_TEMPLATE_H

#include "util.h"

enum template_audience {
	AUDIENCE_PARTICIPANT = 0,
	AUDIENCE_COORDINATOR,
	AUDIENCE_SUPERVISOR,
};

struct template_vars;

struct template_vars *template_vars_new(void); /* caller owns */
/* Copies key and value (NULL value means empty). */
void template_vars_set(struct template_vars *vars, const char *key, const char *value);
void template_vars_setf(struct template_vars *vars, const char *key, const char *fmt, ...)
    ATTR_FORMAT(3, 4);
void template_vars_set_confidential(struct template_vars *vars, const char *key, const char *value);
void template_vars_free(struct template_vars **vars);

/* Renders dir/NAME.txt.  *subject_r and *body_r are owned by the caller.
 * The body ends with exactly one newline.  The file is read once per
 * process and kept in memory (see template_cache_detach). */
int template_render(const char *dir, const char *name, const struct template_vars *vars,
                    enum template_audience audience, char **subject_r, char **body_r,
                    const char **error_r);

/* A program's own text first: dir/PROGRAM/NAME.txt when it exists, else
 * dir/NAME.txt (program may be NULL).  template_dir_for says which
 * directory that is (the caller owns it). */
int template_render_for(const char *dir, const char *program, const char *name,
                        const struct template_vars *vars, enum template_audience audience,
                        char **subject_r, char **body_r, const char **error_r);
char *template_dir_for(const char *dir, const char *program, const char *name);

/* Renders a template from a string (tests, and template_render itself). */
int template_render_string(const char *text, const char *name, const struct template_vars *vars,
                           enum template_audience audience, char **subject_r, char **body_r,
                           const char **error_r);

/* The texts template_render and template_check keep, for a reload
 * (SIGHUP): template_cache_detach takes them out (the caller owns the
 * result), so that template_check reads the files afresh; then either
 * template_cache_free drops them (the new templates are accepted) or
 * template_cache_restore puts them back, dropping what was read since (the
 * reload is refused).  Both take NULL. */
struct template_cache;
struct template_cache *template_cache_detach(void);
void template_cache_free(struct template_cache **cache);
void template_cache_restore(struct template_cache **cache);

/* Checks dir/NAME.txt (read through the same memory as template_render)
 * without values: syntax (headers, tags, sections)
 * and, for the supervisor audience, that it references none of the names in
 * confidential (NULL-terminated; may be NULL).  Unset variables are not
 * errors here.  For start-up. */
int template_check(const char *dir, const char *name, enum template_audience audience,
                   const char *const *confidential, const char **error_r);
int template_check_string(const char *text, const char *name, enum template_audience audience,
                          const char *const *confidential, const char **error_r);

#endif
