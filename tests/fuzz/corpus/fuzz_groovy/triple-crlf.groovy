sh '''
  a \
  b
'''
x