/* Stand-in for a student's client in C (handout listing 1): sends each line it reads.
 * It never calls fflush: on a terminal its stdio writes each line at once; on a pipe it
 * would keep them until exit. Usage: ./client PORT */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t n = sizeof a;
    char line[1024];
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(argc > 1 ? atoi(argv[1]) : 9500);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        return 1;
    }
    getsockname(s, (struct sockaddr *)&a, &n);
    printf("Connecte depuis %d\n", ntohs(a.sin_port));
    while (fgets(line, sizeof line, stdin) != NULL) {
        send(s, line, strlen(line), 0);
        if (strncmp(line, "Fin", 3) == 0)
            break;
    }
    close(s);
    printf("Fin du programme\n");
    return 0;
}
