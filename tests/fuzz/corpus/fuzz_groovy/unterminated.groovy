sh '''
