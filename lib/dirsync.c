/* dirsync - directory entries made durable; see dirsync.h */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "dirsync.h"

int
dirsync(const char *const *dirs, size_t n)
{
	bool several = false;
	int fd, rc;

	if (n == 0)
		return 0;
	for (size_t i = 1; i < n && !several; i++)
		several = strcmp(dirs[i], dirs[0]) != 0;
	if ((fd = open(dirs[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = several ? syncfs(fd) : fsync(fd);
	close(fd);
	return rc;
}
